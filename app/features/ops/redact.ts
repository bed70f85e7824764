/*
  PII redaction for training-data exports. Removes e-mail addresses, phone numbers, payment card numbers, street
  addresses (with postal codes) and personal names: the customer's own names when known, names after greetings,
  sign-offs, titles and "my name is", and common first names with the capitalised surname that follows.
  Deliberately greedy: a false positive costs a word of training text, a false negative leaks a person.
*/

const NAME = String.raw`\p{Lu}[\p{L}'’-]*(?:\s+(?:van|von|de|da|del|di|le|la|bin|al)\s+\p{Lu}[\p{L}'’-]*|\s+\p{Lu}[\p{L}'’-]*){0,2}`
const LOWER_NAME = String.raw`\p{L}[\p{L}'’-]*(?:\s+(?!(?:and|but|or|so|i|im|i'm|from|here|there|my|me|the|a|an|to|for|with|at|in|on|of|please|thanks|thank|is|was|am|are|can|could|would|will|need|want|have|had|and|order|about)(?![\p{L}]))\p{L}[\p{L}'’-]*)?`
// Capitalised words that start sentences after a greeting but are not names.
const NOT_NAMES = new Set(['The', 'Team', 'Support', 'Customer', 'Service', 'Thanks', 'Thank', 'You', 'There', 'All', 'Everyone', 'Again', 'Regards', 'Best', 'Hi', 'Hello', 'Dear', 'Hey', 'Your', 'Our', 'We', 'I', 'Order', 'Please', 'Sorry'])

const COMMON_FIRST_NAMES = `james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark
donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas eric
jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry tyler
aaron jose adam nathan henry douglas zachary peter kyle noah ethan jeremy walter christian keith roger terry austin sean
gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah
wayne randy vincent mason roy ralph bobby russell bradley philip eugene liam lucas mateo oliver leo omar diego kwame chen
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra margaret ashley kimberly
emily donna michelle carol amanda melissa deborah stephanie dorothy rebecca sharon laura cynthia amy kathleen angela shirley
brenda emma anna pamela nicole samantha katherine christine helen debra rachel carolyn janet maria catherine heather diane
olivia julie joyce victoria ruth virginia lauren kelly christina joan evelyn judith andrea hannah megan cheryl jacqueline
martha madison teresa gloria sara janice ann kathryn abigail sophia frances jean alice judy isabella julia grace amber denise
danielle marilyn beverly charlotte natalie theresa diana brittany doris kayla alexis lori marie ava mia amelia harper priya
fatima yuki ingrid sofia aisha mohammed muhammad ahmed ali wei li mei hiroshi sakura raj anil sunita olga ivan sven lars`
  .split(/\s+/)
  .filter(Boolean)


const DOT = String.raw`(?:\s*(?:\[dot\]|\(dot\))\s*|\s+dot\s+)`
const AT = String.raw`(?:\s*(?:\[at\]|\(at\))\s*|\s+at\s+)`

const RULES: Array<[RegExp, string | ((m: string, ...g: string[]) => string)]> = [
  // e-mail, also written out ("jane dot doe at gmail dot com")
  [/[\p{L}0-9._%+-]+@[\p{L}0-9.-]+\.\p{L}{2,}/gu, '[EMAIL]'],
  // (the local part and the domain may be dotted too: "jane dot doe at mail dot co dot uk")
  [new RegExp(String.raw`\b[\w.+-]+(?:${DOT}[\w+-]+){0,3}${AT}[\w-]+(?:${DOT}[\w-]+){0,3}?${DOT}(?:com|net|org|io|co|uk|de|fr|edu|it)\b`, 'giu'), '[EMAIL]'],
  // payment cards: 13–19 digits, optionally grouped by spaces or dashes
  [/\b(?:\d[ -]?){12,18}\d\b/g, '[CARD]'],
  // the street type first (French, Spanish, Italian, Portuguese): "12 rue de Rivoli, 75001 Paris"; types that are
  // English words too ("2 place settings") only before an article ("8 avenue des Ternes")
  [
    /\b\d{1,5}(?:\s?(?:bis|ter))?,?\s+(?:rue|boulevard|chemin|allée|allee|impasse|quai|viale|piazza|corso|calle|avenida|paseo|carrer|rua|praça|(?:avenue|av\.|bd|place|cours|via|plaza)(?=\s+(?:de|des|du|d'|della|del|dei|do|da|dos)\b))\s+(?:[\p{L}'’.-]+\s+){0,3}[\p{L}'’.-]+(?:,?\s*\d{4,5}\s+[\p{L}-]+)?/giu,
    '[ADDRESS]',
  ],
  // the street type as a suffix, the number after (German, Dutch, Scandinavian): "Hauptstraße 5", "Kalverstraat 92"
  [
    /\b[\p{L}-]+(?:straße|strasse|str\.|weg|gasse|platz|allee|straat|laan|gracht|plein|steeg|vej|gatan|gata|veien)\s+\d{1,5}\s?[a-z]?\b(?:,?\s*\d{4,5}\s+[\p{L}-]+)?/giu,
    '[ADDRESS]',
  ],
  // street addresses: number, 1 to 4 words, a street type, optional unit (not "2 place settings", "3 way switch")
  [
    /\b\d{1,6}[A-Za-z]?\s+(?:[\p{L}'’.-]+\s+){1,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|parkway|pkwy|circle|cir|highway|hwy|square|sq|crescent|close|row|strasse|straße|rue)\b\.?(?:,?\s*(?:apt|apartment|suite|ste|unit|flat|#)\.?\s*[\w-]+)?/giu,
    '[ADDRESS]',
  ],
  [/\b(?:p\.?\s?o\.?\s?box|postfach)\s*\d+/giu, '[ADDRESS]'],
  // US state + ZIP, UK and Canadian postcodes
  [/\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b/g, '[POSTCODE]'],
  [/\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b/g, '[POSTCODE]'],
  [/\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b/g, '[POSTCODE]'],
  // phone numbers: 7+ digits in the usual groupings, with optional country code and extension
  [/(?:(?:\+|00)\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]?\d{2,5}){1,3}(?:\s*(?:x|ext\.?)\s*\d{1,5})?/g, (m) =>
    m.replace(/\D/g, '').length >= 7 && !/^\d{4}-\d{2}-\d{2}$/.test(m.trim()) ? '[PHONE]' : m],
]

// Case-insensitive keywords without the `i` flag, which would make \p{Lu} match lowercase letters too.
const ci = (words: string) => words.replace(/\p{L}/gu, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)

const NAME_CONTEXTS = [
  // titles (first, so "Dear Mrs. Müller" keeps its title)
  new RegExp(String.raw`(?<![\p{L}])((?:${ci('mr|mrs|ms|miss|mx|dr|prof|sir|madam')})\.?\s+)(${NAME})`, 'gu'),
  // greetings and sign-offs
  new RegExp(String.raw`(?<![\p{L}])((?:${ci('hi|hello|hey|dear|thanks|thank you|cheers|regards|best|sincerely|yours|love|greetings|good morning|good afternoon|good evening')})[,!]?\s+)(${NAME})`, 'gu'),
  // "my name is …", "this is …", "I'm …", "signed …", "name: …"
  new RegExp(String.raw`(?<![\p{L}])((?:${ci("my name is|my name's|this is|i am|i'm|im|signed|name:|customer:|from:|attn:|attn|c/o")})\s+)(${NAME})`, 'gu'),
  // after the plainest introductions a name may be written in lower case ("my name is sarah connor"); one or two
  // words, the second unless it is an ordinary word that starts the rest of the sentence
  new RegExp(String.raw`(?<![\p{L}])((?:${ci("my name is|my name's|name:|signed")})\s+)(${LOWER_NAME})`, 'gu'),
  // a name alone after a dash ("— Sarah", "- Tom Jones")
  new RegExp(String.raw`((?:^|\n|\s)[-–—~]\s*)(${NAME})`, 'gu'),
]

const FIRST_NAME_RE = new RegExp(String.raw`\b(?:${COMMON_FIRST_NAMES.join('|')})\b(?:\s+\p{Lu}[\p{L}'’-]+)?`, 'giu')

const WORD_CHAR = /[\p{L}\p{N}]/u

/**
 * Replaces whole-word, case-insensitive occurrences of `word` without building a RegExp: every row has different
 * names, and compiling a Unicode RegExp per name per row cost ~1 ms each in the export benchmark.
 */
function replaceWord(text: string, word: string, by: string) {
  const lower = text.toLowerCase()
  const w = word.toLowerCase()
  if (lower.length !== text.length) return text.split(word).join(by) // rare case-mapping length changes: exact matches only
  let out = ''
  let from = 0
  for (let i = lower.indexOf(w); i !== -1; i = lower.indexOf(w, i + w.length)) {
    const before = i > 0 ? text[i - 1] : ''
    const after = text[i + w.length] ?? ''
    if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) continue
    out += text.slice(from, i) + by
    from = i + w.length
  }
  return out + text.slice(from)
}

/** Replaces what looks like personal data in `text`. `knownNames` (the customer's names, email, phone) go first. */
export function redactPii(text: string | null | undefined, knownNames: readonly (string | null | undefined)[] = []): string | null {
  if (text == null) return null
  let out = text
  for (const n of knownNames) {
    if (n && n.trim().length >= 2) out = replaceWord(out, n.trim(), '[NAME]')
  }
  for (const [re, by] of RULES) out = out.replace(re, by as any)
  for (const re of NAME_CONTEXTS) {
    out = out.replace(re, (m, lead: string, name: string) => {
      const words = name.split(/\s+/)
      if (NOT_NAMES.has(words[0])) return m
      return `${lead}[NAME]`
    })
  }
  // common first names when capitalised (lowercase "will", "grace", "mark" are ordinary words)
  out = out.replace(FIRST_NAME_RE, (m) => (/^\p{Lu}/u.test(m) ? '[NAME]' : m))
  return out.replace(/\[NAME\](?:\s+\[NAME\])+/g, '[NAME]')
}
