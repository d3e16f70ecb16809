/**
 * Resources: a list per kind with its status, actions (delete; start and stop a server;
 * accept and reject a peering), a detail panel (a server's request log), and forms to create.
 * The forms are made from the API's own request schemas (GET /openapi.json), so a field the
 * API takes is a field here; a refusal is shown next to the field it names, with its code.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, namesOf, type Snapshot } from './api';
import { l7PolicyTarget, l7RuleText } from '../core/model/l7-text';

interface ListenerPolicy {
  id: string;
  name: string;
  position: number;
  action: string;
  redirectPoolId: string | null;
  redirectUrl: string | null;
  redirectPrefix: string | null;
  redirectHttpCode: number | null;
  fixedResponse?: { statusCode: number; contentType: string; body: string } | null;
  rules: { type: string; compareType: string; key: string | null; value: string; invert: boolean }[];
}

type Schema = {
  type?: string;
  enum?: string[];
  description?: string;
  anyOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
};
type OpenApi = { paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: Schema } } } }>> };

let openapi: Promise<OpenApi> | null = null;
const doc = () => (openapi ??= api<OpenApi>('GET', '/openapi.json'));

export const KINDS: { path: string; label: string; snap?: keyof Snapshot }[] = [
  { path: 'vpcs', label: 'VPCs' },
  { path: 'subnets', label: 'Subnets' },
  { path: 'security-groups', label: 'Security groups' },
  { path: 'servers', label: 'Servers' },
  { path: 'route-tables', label: 'Route tables' },
  { path: 'network-acls', label: 'Network ACLs' },
  { path: 'flow-logs', label: 'Flow logs' },
  { path: 'peerings', label: 'Peerings' },
  { path: 'internet-gateways', label: 'Internet gateways' },
  { path: 'elastic-ips', label: 'Elastic IPs' },
  { path: 'nat-gateways', label: 'NAT gateways' },
  { path: 'load-balancers', label: 'Load balancers' },
  { path: 'listeners', label: 'Listeners' },
  { path: 'pools', label: 'Pools' },
  { path: 'members', label: 'Members' },
  { path: 'health-monitors', label: 'Health monitors' },
];

/** Forms beyond a kind's create: a route of a table, a rule of a group. */
const EXTRA: Record<string, { label: string; path: string; refLabel: string; refs: (s: Snapshot) => { id: string; name: string }[] }[]> = {
  'route-tables': [{ label: 'Add a route', path: '/v1/route-tables/{ref}/routes', refLabel: 'routeTable', refs: (s) => s.routeTables }],
  'network-acls': [
    { label: 'Add a rule', path: '/v1/network-acls/{ref}/rules', refLabel: 'networkAcl', refs: (s) => s.networkAcls },
    { label: 'Put a subnet behind it', path: '/v1/network-acls/{ref}/associations', refLabel: 'networkAcl', refs: (s) => s.networkAcls },
  ],
  'security-groups': [{ label: 'Add a rule', path: '/v1/security-groups/{ref}/rules', refLabel: 'securityGroup', refs: (s) => s.securityGroups }],
  'internet-gateways': [{ label: 'Attach to a VPC', path: '/v1/internet-gateways/{ref}/attach', refLabel: 'internetGateway', refs: (s) => s.internetGateways }],
  'elastic-ips': [
    {
      label: 'Associate with a server',
      path: '/v1/elastic-ips/{ref}/associate',
      refLabel: 'elasticIp',
      refs: (s) => s.elasticIps.filter((e) => !e.loadBalancerId),
    },
  ],
};

const HIDDEN = new Set(['projectId', 'createdAt', 'loopbackIp']);

const ACRONYMS: Record<string, string> = { vpc: 'VPC', ip: 'IP', ips: 'IPs', cidr: 'CIDR', vip: 'VIP', id: 'ID', http: 'HTTP', url: 'URL', tcp: 'TCP' };

/** A field's name as a column header: `vpcId` → VPC, `privateIp` → private IP, `securityGroupIds` → security groups. */
export function header(field: string): string {
  if (field === 'id') return 'ID';
  const base = field.replace(/Ids$/, 's').replace(/Id$/, '');
  return base
    .split(/(?=[A-Z])/)
    .map((w, i) => ACRONYMS[w.toLowerCase()] ?? (i === 0 ? w : w.toLowerCase()))
    .join(' ');
}

/** The resources a reference field of a form names, from the snapshot (a pick list rather than free text). */
function choicesOf(field: string, snap: Snapshot | null): string[] | null {
  if (!snap) return null;
  const lists: Record<string, { name: string }[]> = {
    vpc: snap.vpcs,
    peerVpc: snap.vpcs,
    subnet: snap.subnets,
    routeTable: snap.routeTables,
    server: snap.servers,
    loadBalancer: snap.loadBalancers,
    pool: snap.pools,
    defaultPool: snap.pools,
    securityGroups: snap.securityGroups,
    elasticIp: snap.elasticIps.filter((e) => !e.loadBalancerId && !e.serverId && !e.natGatewayId),
  };
  if (field === 'target')
    return [...snap.peerings.map((p) => p.name), ...snap.internetGateways.map((g) => g.name), ...snap.natGateways.map((n) => n.name), 'blackhole'];
  return lists[field]?.map((r) => r.name) ?? null;
}

function cell(v: unknown, names: Map<string, string>, key: string): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? (names.get(x) ?? x) : typeof x === 'object' ? summary(x, names) : String(x))).join(', ');
  if (typeof v === 'object') return summary(v, names);
  if (typeof v === 'string' && key.endsWith('Id') && names.has(v)) return names.get(v)!;
  return String(v);
}

function summary(o: object, names: Map<string, string> = new Map()): string {
  const r = o as Record<string, unknown>;
  if ('destination' in r) {
    const t = r.target as { type: string; peeringId?: string; gatewayId?: string; natGatewayId?: string };
    const to = t.peeringId ?? t.gatewayId ?? t.natGatewayId;
    return `${r.destination} → ${to ? (names.get(to) ?? to) : t.type}`;
  }
  if ('number' in r && 'action' in r)
    return `${r.direction === 'ingress' ? 'in' : 'out'} ${String(r.number)} ${String(r.action)} ${String(r.protocol)}${r.portRange ? `:${(r.portRange as { from: number }).from}` : ''} ${String(r.cidr)}`;
  if ('direction' in r) return `${r.direction} ${r.protocol}${r.portRange ? `:${(r.portRange as { from: number }).from}` : ''}`;
  if ('type' in r) return String(r.type);
  return JSON.stringify(o);
}

/** The field a refusal names ("ip 10.0.0.255 is reserved", "cidr: ...", "body/name must ..."), if the form has it. */
function fieldOf(message: string, fields: string[]): string | null {
  const m = /^(?:body\/)?([a-zA-Z]+)\b/.exec(message);
  return m && fields.includes(m[1]) ? m[1] : null;
}

function valueOf(s: Schema, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  if (raw.trim() === '') return undefined;
  if (s.type === 'integer' || s.type === 'number') return Number(raw);
  if (s.type === 'array')
    return raw
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  if (s.anyOf?.some((x) => x.type === 'boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/** A form made from a request schema; `refs` adds a first field choosing the resource a sub-path names. */
export function SchemaForm(props: {
  title: string;
  path: string;
  onDone: () => void;
  refs?: { label: string; options: { id: string; name: string }[] };
  testId: string;
  /** For pick lists of the resources a field names. */
  snap?: Snapshot | null;
}) {
  const [schema, setSchema] = useState<Schema | null>(null);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [error, setError] = useState<{ field: string | null; text: string } | null>(null);
  useEffect(() => {
    void doc().then((d) => setSchema(d.paths[props.path]?.post?.requestBody?.content['application/json'].schema ?? null));
  }, [props.path]);
  if (!schema?.properties) return null;
  const fields = Object.entries(schema.properties);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const body: Record<string, unknown> = {};
    for (const [k, s] of fields) {
      const v = values[k] === undefined ? undefined : valueOf(s, values[k]);
      if (v !== undefined) body[k] = v;
    }
    const path = props.refs ? props.path.replace('{ref}', encodeURIComponent(String(values['@ref'] ?? ''))) : props.path;
    try {
      await api('POST', path, body);
      setValues({});
      props.onDone();
    } catch (err) {
      const e2 = err instanceof ApiError ? err : new ApiError('Error', String(err), 0);
      setError({
        field: fieldOf(
          e2.message,
          fields.map(([k]) => k),
        ),
        text: `${e2.code}: ${e2.message}`,
      });
    }
  };
  const input = (k: string, s: Schema) => {
    const set = (v: string | boolean) => setValues((x) => ({ ...x, [k]: v }));
    const id = `${props.testId}-${k}`;
    if (s.type === 'boolean') return <input id={id} type="checkbox" checked={values[k] === true} onChange={(e) => set(e.target.checked)} />;
    const choices = choicesOf(k, props.snap ?? null);
    if (choices && s.type === 'array') {
      // Several: a multiple pick list, sent as the comma-separated names it holds.
      const chosen = String(values[k] ?? '')
        .split(',')
        .filter(Boolean);
      return (
        <select id={id} multiple value={chosen} onChange={(e) => set([...e.target.selectedOptions].map((o) => o.value).join(','))}>
          {choices.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
    }
    if (choices) {
      return (
        <select id={id} value={String(values[k] ?? '')} onChange={(e) => set(e.target.value)}>
          <option value="">-</option>
          {choices.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
    }
    if (s.enum) {
      return (
        <select id={id} value={String(values[k] ?? '')} onChange={(e) => set(e.target.value)}>
          <option value="">-</option>
          {s.enum.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
    }
    return (
      <input
        id={id}
        type={s.type === 'integer' ? 'number' : 'text'}
        value={String(values[k] ?? '')}
        placeholder={s.type === 'array' ? 'comma separated' : ''}
        onChange={(e) => set(e.target.value)}
      />
    );
  };
  return (
    <form className="schema-form" onSubmit={submit} data-testid={props.testId} aria-label={props.title}>
      <h3>{props.title}</h3>
      {props.refs && (
        <label>
          <span>{props.refs.label}</span>
          <select id={`${props.testId}-@ref`} value={String(values['@ref'] ?? '')} onChange={(e) => setValues((x) => ({ ...x, '@ref': e.target.value }))}>
            <option value="">-</option>
            {props.refs.options.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {fields.map(([k, s]) => (
        <label key={k} title={s.description}>
          <span>
            {header(k)}
            {schema.required?.includes(k) ? ' *' : ''}
          </span>
          {input(k, s)}
          {error?.field === k && (
            <em className="field-error" role="alert">
              {error.text}
            </em>
          )}
        </label>
      ))}
      {error && error.field === null && (
        <p className="form-error" role="alert">
          {error.text}
        </p>
      )}
      <button type="submit">Create</button>
    </form>
  );
}

export function Resources({ snap, refresh }: { snap: Snapshot | null; refresh: () => void }) {
  const [kind, setKind] = useState('vpcs');
  const [rows, setRows] = useState<Record<string, unknown>[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [detail, setDetail] = useState<{ id: string; name: string } | null>(null);
  const [logs, setLogs] = useState<{ requests: { time: string; method: string; path: string; client: string }[]; output: string } | null>(null);
  const [policies, setPolicies] = useState<ListenerPolicy[] | null>(null);
  const names = namesOf(snap);
  const load = () => void api<Record<string, unknown>[]>('GET', `/v1/${kind}`).then(setRows, (e: ApiError) => setMessage(`${e.code}: ${e.message}`));
  useEffect(() => {
    load();
    setDetail(null);
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, [kind]);
  useEffect(() => {
    if (!detail || kind !== 'servers') return setLogs(null);
    const get = () => void api<typeof logs>('GET', `/v1/servers/${detail.id}/logs`).then(setLogs, () => setLogs(null));
    get();
    const t = setInterval(get, 2000);
    return () => clearInterval(t);
  }, [detail, kind]);
  // A listener's panel shows its L7 policies in order.
  useEffect(() => {
    if (!detail || kind !== 'listeners') return setPolicies(null);
    const get = () => void api<ListenerPolicy[]>('GET', `/v1/l7policies?listener=${encodeURIComponent(detail.id)}`).then(setPolicies, () => setPolicies(null));
    get();
    const t = setInterval(get, 2000);
    return () => clearInterval(t);
  }, [detail, kind]);
  const act = async (method: string, path: string, body?: unknown) => {
    setMessage(null);
    try {
      await api(method, path, body);
      load();
      refresh();
    } catch (err) {
      const e = err as ApiError;
      setMessage(`${e.code}: ${e.message}`);
    }
  };
  const columns = rows.length ? Object.keys(rows[0]).filter((k) => !HIDDEN.has(k)) : [];
  return (
    <div className="resources">
      <nav className="kinds">
        {KINDS.map((k) => (
          <button key={k.path} className={k.path === kind ? 'active' : ''} onClick={() => setKind(k.path)}>
            {k.label}
          </button>
        ))}
      </nav>
      <section>
        {message && (
          <p className="form-error" role="alert">
            {message}
          </p>
        )}
        <table data-testid={`list-${kind}`}>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c} title={c}>
                  {header(c)}
                </th>
              ))}
              <th>actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const id = String(r.id);
              const base = `/v1/${kind}/${encodeURIComponent(id)}`;
              return (
                <tr key={id} data-name={String(r.name)} onClick={() => setDetail({ id, name: String(r.name) })}>
                  {columns.map((c) => (
                    <td key={c}>{cell(r[c], names, c)}</td>
                  ))}
                  <td className="actions" onClick={(e) => e.stopPropagation()}>
                    {kind === 'servers' && (
                      <>
                        <button onClick={() => act('POST', `${base}/${r.status === 'running' ? 'stop' : 'start'}`)}>
                          {r.status === 'running' ? 'stop' : 'start'}
                        </button>
                        <button onClick={() => setDetail({ id, name: String(r.name) })}>request log</button>
                      </>
                    )}
                    {kind === 'internet-gateways' && r.vpcId !== null && <button onClick={() => act('POST', `${base}/detach`, {})}>detach</button>}
                    {kind === 'elastic-ips' && r.serverId !== null && <button onClick={() => act('POST', `${base}/disassociate`)}>disassociate</button>}
                    {kind === 'peerings' && r.status === 'pending-acceptance' && (
                      <>
                        <button onClick={() => act('POST', `${base}/accept`)}>accept</button>
                        <button onClick={() => act('POST', `${base}/reject`)}>reject</button>
                      </>
                    )}
                    {!(kind === 'peerings' && r.status === 'deleted') && !(kind === 'elastic-ips' && r.loadBalancerId) && (
                      <button className="danger" onClick={() => act('DELETE', base)}>
                        delete
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {detail && rows.find((r) => r.id === detail.id) && (
          <dl className="detail" data-testid="detail">
            <h3>
              {KINDS.find((k) => k.path === kind)?.label.replace(/s$/, '')} {detail.name}
            </h3>
            {Object.entries(rows.find((r) => r.id === detail.id)!).map(([k, v]) => (
              <div key={k}>
                <dt>{header(k)}</dt>
                <dd>{typeof v === 'object' && v !== null ? JSON.stringify(v) : cell(v, names, k)}</dd>
              </div>
            ))}
          </dl>
        )}
        {detail && kind === 'listeners' && policies && (
          <div className="detail" data-testid="listener-policies">
            <h3>L7 policies of {detail.name}</h3>
            {policies.length === 0 ? (
              <p>None: every request goes to the default pool.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>#</th>
                    <th>name</th>
                    <th>rules (all must match)</th>
                    <th>action</th>
                    <th>to</th>
                  </tr>
                </thead>
                <tbody>
                  {policies.map((p) => (
                    <tr key={p.id} data-policy={p.name}>
                      <td>{p.position}</td>
                      <td>{p.name}</td>
                      <td>{p.rules.length ? p.rules.map(l7RuleText).join('; ') : '(none: never matches)'}</td>
                      <td>{p.action}</td>
                      <td>{l7PolicyTarget(p, p.redirectPoolId ? (names.get(p.redirectPoolId) ?? p.redirectPoolId) : null)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        )}
        {detail && kind === 'servers' && logs && (
          <div className="detail" data-testid="server-logs">
            <h3>Requests served by {detail.name}</h3>
            <table>
              <tbody>
                {logs.requests.slice(-20).map((q, i) => (
                  <tr key={i}>
                    <td>{q.time}</td>
                    <td>{q.method}</td>
                    <td>{q.path}</td>
                    <td>{q.client}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div className="forms">
          <SchemaForm
            key={kind}
            title={`Create ${KINDS.find((k) => k.path === kind)
              ?.label.replace(/s$/, '')
              .toLowerCase()}`}
            path={`/v1/${kind}`}
            testId={`create-${kind}`}
            snap={snap}
            onDone={() => {
              load();
              refresh();
            }}
          />
          {snap &&
            (EXTRA[kind] ?? []).map((x, i) => (
              <SchemaForm
                key={x.path}
                title={x.label}
                path={x.path}
                testId={`extra-${kind}${i > 0 ? `-${x.path.split('/').pop()}` : ''}`}
                refs={{ label: header(x.refLabel), options: x.refs(snap) }}
                snap={snap}
                onDone={() => {
                  load();
                  refresh();
                }}
              />
            ))}
        </div>
      </section>
    </div>
  );
}
