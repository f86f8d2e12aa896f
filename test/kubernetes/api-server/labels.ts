/**
 * Label selectors and label syntax, as the Kubernetes API server parses and checks them
 * (k8s.io/apimachinery/pkg/labels and pkg/util/validation).
 */

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is invalid, or undefined when it is valid ("prefix/name", prefix optional). */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'prefix part must be a lowercase RFC 1123 subdomain';
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (max 63)";
  }
  return undefined;
}

/** Why a label value is invalid, or undefined when it is valid (may be empty). */
export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_PART.test(value)) return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (max 63)";
  return undefined;
}

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!' };

/** A parsed label selector; throws on syntax the API server refuses (answered 400). */
export class LabelSelector {
  private constructor(private readonly requirements: Requirement[]) {}

  static parse(text: string | null | undefined): LabelSelector {
    if (!text) return new LabelSelector([]);
    const requirements: Requirement[] = [];
    // Commas inside "in (a,b)" do not separate requirements.
    for (const part of text.match(/[^,(]+(\([^)]*\))?[^,]*/g) ?? []) {
      const term = part.trim();
      let match: RegExpMatchArray | null;
      if ((match = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
        requirements.push({ key: checkedKey(match[1]!), op: match[2] as 'in' | 'notin', values: match[3]!.split(',').map((v) => checkedValue(v.trim())) });
      } else if ((match = term.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
        const values = [checkedValue(match[3]!)];
        requirements.push({ key: checkedKey(match[1]!), op: match[2] === '!=' ? 'notin' : 'in', values });
      } else if ((match = term.match(/^!\s*(\S+)$/))) {
        requirements.push({ key: checkedKey(match[1]!), op: '!' });
      } else if ((match = term.match(/^(\S+)$/))) {
        requirements.push({ key: checkedKey(match[1]!), op: 'exists' });
      } else {
        throw new Error(`unable to parse requirement: ${term}`);
      }
    }
    return new LabelSelector(requirements);
  }

  matches(labels: Record<string, string> | undefined): boolean {
    const all = labels ?? {};
    return this.requirements.every((req) => {
      const has = Object.hasOwn(all, req.key);
      switch (req.op) {
        case 'exists':
          return has;
        case '!':
          return !has;
        case 'in':
          return has && req.values.includes(all[req.key]!);
        case 'notin':
          return !has || !req.values.includes(all[req.key]!);
      }
    });
  }
}

function checkedKey(key: string): string {
  const error = labelKeyError(key);
  if (error) throw new Error(`invalid label key "${key}": ${error}`);
  return key;
}

function checkedValue(value: string): string {
  const error = labelValueError(value);
  if (error) throw new Error(`invalid label value: "${value}": ${error}`);
  return value;
}
