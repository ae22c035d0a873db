/**
 * Names init gives models, fields, tables and columns: PascalCase singular models,
 * camelCase fields, snake_case tables and columns (`@@map`/`@map`), always valid Prisma
 * identifiers. Pure.
 */

/** Words of a source key or path: `tier_and_details` → [tier, and, details], `address.city` → [address, city], `createdAt` → [created, at]. */
function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

const upperFirst = (w: string) => (w === '' ? w : w[0]!.toUpperCase() + w.slice(1));
export const lowerFirst = (w: string) => (w === '' ? w : w[0]!.toLowerCase() + w.slice(1));

/** A Prisma identifier never starts with a digit. */
function identifier(name: string, fallback: string): string {
  if (name === '') return fallback;
  return /^[0-9]/.test(name) ? `f${name}` : name;
}

/** `address.city` → addressCity; keeps an already camelCase key as is. */
export function camelName(path: string): string {
  const w = words(path);
  return identifier(lowerFirst(w.map(upperFirst).join('')), 'field');
}

export function pascalName(text: string): string {
  return identifier(words(text).map(upperFirst).join(''), 'Model');
}

/** addressCity → address_city */
export function snakeName(name: string): string {
  return words(name).join('_') || 'field';
}

/** orders → order, categories → category, addresses → address, status → status. */
/** Words ending in -ie whose plural is not -y: movies → movie. */
const IE_WORDS = /(movie|cookie|zombie|rookie|selfie|calorie|pie|tie|lie|freebie|hippie|newbie|genie|prairie|eerie|auntie|sortie)s$/i;

export function singular(word: string): string {
  if (/(series|species|news)$/i.test(word)) return word;
  if (IE_WORDS.test(word)) return word.slice(0, -1);
  if (/ies$/i.test(word)) return word.slice(0, -3) + 'y';
  if (/(ss|us|is)$/i.test(word)) return word;
  if (/(sses|shes|ches|xes|zes)$/i.test(word)) return word.slice(0, -2);
  if (/s$/i.test(word) && word.length > 3) return word.slice(0, -1);
  return word;
}

export function plural(word: string): string {
  if (/[^aeiou]y$/i.test(word)) return word.slice(0, -1) + 'ies';
  if (/(s|x|z|ch|sh)$/i.test(word)) return word + 'es';
  return word + 's';
}

/** The model a collection becomes: `orders` → Order, `order_items` → OrderItem. */
export function modelNameFor(collection: string): string {
  const w = words(collection);
  if (w.length === 0) return 'Model';
  w[w.length - 1] = singular(w[w.length - 1] as string);
  return identifier(w.map(upperFirst).join(''), 'Model');
}

/** Names Prisma keeps for itself or the generated client: a model may not take them. */
const RESERVED_MODELS = new Set(['Prisma', 'PrismaClient', 'Model', 'Enum', 'String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes']);

/** A name not yet in `taken` (adds it): `name`, else `name2`, `name3`… */
export function unique(name: string, taken: Set<string>): string {
  const base = RESERVED_MODELS.has(name) ? `${name}Record` : name;
  let candidate = base;
  for (let i = 2; taken.has(candidate); i++) candidate = `${base}${i}`;
  taken.add(candidate);
  return candidate;
}
