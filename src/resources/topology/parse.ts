/**
 * Reading a topology file, step one: its shape. YAML (JSON is YAML too) into a document that
 * knows where each value stands, then the file's schema (core/model/topology.ts) with every
 * problem at once, each with its path in the file and its line. Step two, the meaning
 * (references, containment, the cloud's rules), is the services' own checks, run by
 * apply.ts in a transaction that is rolled back.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import { Ajv, type ErrorObject } from 'ajv';
import { TopologyFile } from '../../core/model/index.js';

export interface FileProblem {
  /** `servers[1].ip`; '' for the file as a whole. */
  path: string;
  line: number | null;
  code: string;
  message: string;
}

export type PathPart = string | number;

/** `['servers', 1, 'ip']` as people write it: `servers[1].ip`. */
export function pathText(parts: PathPart[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export interface ParsedFile {
  file: TopologyFile | null;
  problems: FileProblem[];
  /** The line of the value at `path`, or of its nearest parent the file has. */
  lineOf(path: PathPart[]): number | null;
}

// Compiled on first use: the daemon's start does not pay for it.
let compiled: ReturnType<Ajv['compile']> | null = null;
const validator = () => (compiled ??= new Ajv({ allErrors: true, strict: false }).compile(TopologyFile));

function lineFinder(doc: Document, lines: LineCounter) {
  return (path: PathPart[]): number | null => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lines.linePos(node.range[0]).line;
    }
    return null;
  };
}

function schemaProblem(e: ErrorObject, lineOf: (p: PathPart[]) => number | null): FileProblem {
  const parts: PathPart[] = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  let message = e.message ?? 'is not valid';
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    parts.push(extra);
    message = 'is not a field here';
  } else if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty: string }).missingProperty);
    parts.push(missing);
    message = 'is required';
    return { path: pathText(parts), line: lineOf(parts.slice(0, -1)), code: 'InvalidParameterValue', message: `${pathText(parts)}: ${message}` };
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  }
  const path = pathText(parts);
  return { path, line: lineOf(parts), code: 'InvalidParameterValue', message: `${path || 'the file'}: ${message}` };
}

const NESTED = 'the file is nested too deeply to be a topology file (a real one is a few levels deep)';

export function parseTopology(text: string): ParsedFile {
  try {
    return parseChecked(text);
  } catch (err) {
    // A file nested so deep that reading it would overflow the stack says so, with no stack trace.
    if (!(err instanceof RangeError)) throw err;
    const problem: FileProblem = { path: '', line: null, code: 'InvalidParameterValue', message: NESTED };
    return { file: null, problems: [problem], lineOf: () => null };
  }
}

function parseChecked(text: string): ParsedFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const lineOf = lineFinder(doc, lines);
  const problems: FileProblem[] = doc.errors.map((e) => ({
    path: '',
    line: e.linePos?.[0]?.line ?? null,
    code: 'InvalidParameterValue',
    // The YAML reader gives up on a file nested deeper than the stack allows: said as such.
    message: /Maximum call stack size exceeded/.test(e.message) ? NESTED : `YAML: ${e.message.split('\n')[0]}`,
  }));
  if (problems.length) return { file: null, problems, lineOf };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    return { file: null, problems: [{ path: '', line: null, code: 'InvalidParameterValue', message: `YAML: ${(err as Error).message}` }], lineOf };
  }
  const validate = validator();
  if (!validate(value)) {
    // One problem per place: ajv may say several things of one value (a union's branches).
    const seen = new Set<string>();
    for (const e of validate.errors ?? []) {
      const p = schemaProblem(e, lineOf);
      if (seen.has(p.path)) continue;
      seen.add(p.path);
      problems.push(p);
    }
    return { file: null, problems, lineOf };
  }
  return { file: value as TopologyFile, problems, lineOf };
}
