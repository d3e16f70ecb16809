/**
 * One codec for AWS's two query protocols, driven by AWS's own service models (models/*.json,
 * trimmed from botocore by scripts/aws-models.mjs): a form-encoded request becomes a typed
 * input following the model's names, and an output becomes the XML the SDKs parse.
 *
 *   ec2 (EC2):   a member's key is its queryName, else its locationName capitalized, else its
 *                name; lists are always flattened (`IpPermissions.1.IpRanges.1.CidrIp`);
 *                responses name members by locationName and list items <item>.
 *   query (ELBv2): a member's key is its locationName, else its name; lists are
 *                `Name.member.N` unless flattened, maps `Name.entry.N.key`/`.value`;
 *                responses wrap the output in <OpResult> and list items in <member>.
 */

export interface ShapeRef {
  shape: string;
  locationName?: string;
  queryName?: string;
  flattened?: boolean;
  xmlNamespace?: unknown;
}

export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'double' | 'float' | 'blob';
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  flattened?: boolean;
  enum?: string[];
  required?: string[];
  locationName?: string;
}

export interface Model {
  metadata: { protocol: 'ec2' | 'query'; apiVersion: string; xmlNamespace: string | { uri: string } };
  operations: Record<string, { name: string; input?: ShapeRef; output?: ShapeRef & { resultWrapper?: string } }>;
  shapes: Record<string, Shape>;
}

export type Value = string | number | boolean | Date | Value[] | { [k: string]: Value } | undefined;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function requestKey(protocol: Model['metadata']['protocol'], name: string, ref: ShapeRef): string {
  if (protocol === 'ec2') return ref.queryName ?? (ref.locationName ? capitalize(ref.locationName) : name);
  return ref.locationName ?? name;
}

/** A refusal with one of AWS's own codes that Nimbus's catalogue has no need of (MissingParameter, InvalidInstanceID.NotFound...). */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Nimbus's codes where AWS spells the same refusal another way. */
export const AWS_CODE: Record<string, string> = {
  'InvalidServerID.NotFound': 'InvalidInstanceID.NotFound',
  'InvalidGroupID.NotFound': 'InvalidGroup.NotFound',
  'InvalidLoadBalancerID.NotFound': 'LoadBalancerNotFound',
  'InvalidListenerID.NotFound': 'ListenerNotFound',
  'InvalidPoolID.NotFound': 'TargetGroupNotFound',
  'InvalidMemberID.NotFound': 'InvalidTarget',
  DuplicateListener: 'DuplicateListener',
  'TargetGroup.InUse': 'ResourceInUse',
  'InvalidCertificateID.NotFound': 'CertificateNotFound',
};

/** A problem with a parameter: its key and what is wrong (the endpoint answers InvalidParameterValue). */
export class ParamError extends Error {
  constructor(
    readonly key: string,
    message: string,
    /** A parameter the operation does not read (EC2's UnknownParameter). */
    readonly unknown = false,
  ) {
    super(message);
  }
}

/** Parameters every request may carry besides its operation's input: the operation, its version, a presigned request's signature. */
const ENVELOPE = new Set([
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Expires',
]);

/**
 * The typed input of an operation from its form parameters. A parameter of the input that is
 * not read is refused (ParamError with `unknown`), not ignored: `Filter.999999.Name` after no
 * `Filter.1` (list members are numbered from 1 without a gap) would otherwise make a filtered
 * call answer unfiltered.
 */
export function decodeInput(model: Model, operation: string, params: Map<string, string>): Record<string, Value> {
  const op = model.operations[operation];
  const read = new Set<string>();
  const tracked = new Map(params);
  const get = tracked.get.bind(tracked);
  tracked.get = (k: string) => {
    read.add(k);
    return get(k);
  };
  const out = op?.input ? ((decode(model, model.shapes[op.input.shape], '', tracked) as Record<string, Value> | undefined) ?? {}) : {};
  // A parameter of this operation's input that was not read (a member past a gap); names it does not
  // have at all are let through, as a newer SDK sends parameters an older model lacks (ClientToken).
  const shape = op?.input ? model.shapes[op.input.shape] : undefined;
  const known = new Set(Object.entries(shape?.members ?? {}).map(([name, ref]) => requestKey(model.metadata.protocol, name, ref)));
  const unread = [...params.keys()].filter((k) => !read.has(k) && !ENVELOPE.has(k) && known.has(k.split('.')[0]));
  if (unread.length > 0) {
    const first = unread[0];
    const list = /^(.*)\.(\d+)(?:\.|$)/.exec(first);
    throw new ParamError(
      first,
      list
        ? `${first}: not read: the members of ${list[1]} are numbered from 1 without a gap${unread.length > 1 ? ` (and ${unread.length - 1} more unread)` : ''}`
        : `${first}: not read by ${operation}${unread.length > 1 ? ` (and ${unread.length - 1} more)` : ''}`,
      true,
    );
  }
  return out;
}

function has(params: Map<string, string>, prefix: string): boolean {
  if (params.has(prefix)) return true;
  const p = `${prefix}.`;
  for (const k of params.keys()) if (k.startsWith(p)) return true;
  return false;
}

function decode(model: Model, shape: Shape, prefix: string, params: Map<string, string>): Value {
  const protocol = model.metadata.protocol;
  const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, Value> = {};
      let any = prefix === '';
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        const key = join(prefix, requestKey(protocol, name, ref));
        if (!has(params, key)) continue;
        out[name] = decode(model, model.shapes[ref.shape], key, params);
        any = true;
      }
      return any ? out : undefined;
    }
    case 'list': {
      const member = shape.member!;
      const flattened = protocol === 'ec2' || shape.flattened;
      const base = flattened ? prefix : `${prefix}.${member.locationName ?? 'member'}`;
      const items: Value[] = [];
      for (let i = 1; has(params, `${base}.${i}`); i++) items.push(decode(model, model.shapes[member.shape], `${base}.${i}`, params));
      return items;
    }
    case 'map': {
      const out: Record<string, Value> = {};
      const base = shape.flattened ? prefix : `${prefix}.entry`;
      for (let i = 1; has(params, `${base}.${i}`); i++) {
        const k = params.get(`${base}.${i}.${shape.key?.locationName ?? 'key'}`);
        if (k !== undefined) out[k] = decode(model, model.shapes[shape.value!.shape], `${base}.${i}.${shape.value?.locationName ?? 'value'}`, params);
      }
      return out;
    }
    default:
      return scalar(shape, prefix, params.get(prefix));
  }
}

function scalar(shape: Shape, key: string, raw: string | undefined): Value {
  if (raw === undefined) return undefined;
  switch (shape.type) {
    case 'integer':
    case 'long': {
      if (!/^-?\d+$/.test(raw)) throw new ParamError(key, `${key}: '${raw}' is not a whole number`);
      return Number(raw);
    }
    case 'double':
    case 'float': {
      const n = Number(raw);
      if (raw === '' || Number.isNaN(n)) throw new ParamError(key, `${key}: '${raw}' is not a number`);
      return n;
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw new ParamError(key, `${key}: '${raw}' is not true or false`);
      return raw === 'true';
    case 'timestamp': {
      const d = new Date(raw);
      if (Number.isNaN(d.getTime())) throw new ParamError(key, `${key}: '${raw}' is not a time`);
      return d;
    }
    default:
      return raw;
  }
}

/** Characters XML 1.0 cannot carry at all: what the store holds from before the text rules (core/text.ts) is sent as U+FFFD. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;
const escapeXml = (s: string) => s.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function ns(model: Model): string {
  const n = model.metadata.xmlNamespace;
  const uri = typeof n === 'string' ? n : n.uri;
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** An operation's output as the protocol's XML document. */
export function encodeOutput(model: Model, operation: string, output: Record<string, Value>, requestId: string): string {
  const op = model.operations[operation];
  const body = op.output ? encodeMembers(model, model.shapes[op.output.shape], output) : '';
  if (model.metadata.protocol === 'ec2') {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${ns(model)}"><requestId>${requestId}</requestId>${body}</${operation}Response>`;
  }
  const wrapper = op.output?.resultWrapper ?? `${operation}Result`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${ns(model)}"><${wrapper}>${body}</${wrapper}>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`
  );
}

function encodeMembers(model: Model, shape: Shape, value: Record<string, Value>): string {
  let out = '';
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const v = value[name];
    if (v === undefined || v === null) continue;
    out += encodeValue(model, ref, ref.locationName ?? name, v);
  }
  return out;
}

function encodeValue(model: Model, ref: ShapeRef, tag: string, v: Value): string {
  const shape = model.shapes[ref.shape];
  switch (shape.type) {
    case 'structure':
      return `<${tag}>${encodeMembers(model, shape, v as Record<string, Value>)}</${tag}>`;
    case 'list': {
      const member = shape.member!;
      const itemTag = member.locationName ?? (model.metadata.protocol === 'ec2' ? 'item' : 'member');
      const items = (v as Value[]).map((x) => encodeValue(model, member, shape.flattened || ref.flattened ? tag : itemTag, x)).join('');
      return shape.flattened || ref.flattened ? items : `<${tag}>${items}</${tag}>`;
    }
    case 'map': {
      const entries = Object.entries(v as Record<string, Value>)
        .map(([k, x]) => `<entry><key>${escapeXml(k)}</key>${encodeValue(model, shape.value!, 'value', x)}</entry>`)
        .join('');
      return `<${tag}>${entries}</${tag}>`;
    }
    case 'timestamp':
      return `<${tag}>${(v instanceof Date ? v : new Date(String(v))).toISOString()}</${tag}>`;
    default:
      return `<${tag}>${escapeXml(String(v))}</${tag}>`;
  }
}

/** An error document: EC2's <Response><Errors>, or the query protocol's <ErrorResponse>. */
export function encodeError(model: Model | null, code: string, message: string, requestId: string, sender = true): string {
  if (!model || model.metadata.protocol === 'ec2') {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${ns(model)}"><Error><Type>${sender ? 'Sender' : 'Receiver'}</Type>` +
    `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/**
 * Pages a Describe's answer as its model says: EC2's `MaxResults`/`NextToken` (5-1000), ELBv2's
 * `PageSize`/`Marker`/`NextMarker` (1-400). The page is cut from the output's one list member;
 * the token is opaque to the caller (the operation and an offset). Without a page size the whole
 * answer goes, as AWS does for the calls that allow it; a token from another call is refused.
 */
export function paginate(model: Model, action: string, input: Record<string, unknown>, output: Record<string, Value>): Record<string, Value> {
  const op = model.operations[action];
  const outShape = op.output ? model.shapes[op.output.shape] : undefined;
  const ec2 = model.metadata.protocol === 'ec2';
  const [sizeKey, tokenKey, nextKey, min, max] = ec2
    ? (['MaxResults', 'NextToken', 'NextToken', 5, 1000] as const)
    : (['PageSize', 'Marker', 'NextMarker', 1, 400] as const);
  if (!outShape?.members?.[nextKey]) return output;
  const lists = Object.entries(outShape.members).filter(([, ref]) => model.shapes[ref.shape]?.type === 'list');
  if (lists.length !== 1) return output;
  const listKey = lists[0][0];
  const size = input[sizeKey];
  const token = input[tokenKey];
  if (size === undefined && token === undefined) return output;
  const n = size === undefined ? max : Number(size);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new AwsError(ec2 ? 'InvalidParameterValue' : 'ValidationError', `${sizeKey} ${size}: from ${min} to ${max}`);
  if (ec2 && size !== undefined) {
    const ids = Object.entries(input).find(([k, v]) => /Ids$/.test(k) && Array.isArray(v) && v.length > 0);
    if (ids) throw new AwsError('InvalidParameterCombination', `${ids[0]} cannot be used with ${sizeKey}`);
  }
  let from = 0;
  if (token !== undefined) {
    const m = /^([A-Za-z]+):(\d+)$/.exec(Buffer.from(String(token), 'base64url').toString('utf8'));
    if (!m || m[1] !== action)
      throw new AwsError(ec2 ? 'InvalidPaginationToken' : 'ValidationError', `${tokenKey} '${String(token)}' is not one this call gave`);
    from = Number(m[2]);
  }
  const all = (output[listKey] ?? []) as Value[];
  const page = all.slice(from, from + n);
  const next = from + n < all.length ? Buffer.from(`${action}:${from + n}`).toString('base64url') : undefined;
  return { ...output, [listKey]: page, ...(next ? { [nextKey]: next } : {}) };
}
