/**
 * Runs one engine in this process, for profiling under load by hand:
 *   node --cpu-prof --import tsx bench/profile-engine.ts PORT http|tcp [ALGORITHM] [cookie]
 * with two back ends on 127.0.0.1:18101 and :18102; it exits by itself after 20 s.
 */
import { Engine } from '../src/lb/engine.js';

const [port, protocol, algorithm = 'ROUND_ROBIN', persistence] = process.argv.slice(2);
const engine = new Engine(persistence || process.env.ACCESS_LOG ? '/tmp/nimbus-profile-access.log' : null);
await engine.apply({
  listeners: [{ id: 'lsn', protocol: protocol === 'tcp' ? 'TCP' : 'HTTP', port: Number(port), poolId: 'pool', bind: ['127.0.0.1'] }],
  pools: [
    {
      id: 'pool',
      algorithm: algorithm as 'ROUND_ROBIN',
      persistence: persistence === 'cookie' ? { type: 'HTTP_COOKIE' } : null,
      health: null,
      members: [
        { id: 'b1', host: '127.0.0.1', port: 18101, weight: 1, enabled: true },
        { id: 'b2', host: '127.0.0.1', port: 18102, weight: 1, enabled: true },
      ],
    },
  ],
});
setTimeout(() => void engine.close().then(() => process.exit(0)), Number(process.env.SECONDS_TO_LIVE ?? 20) * 1000);
