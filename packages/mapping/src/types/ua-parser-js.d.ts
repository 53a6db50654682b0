// ua-parser-js v1 (MIT) ships no TypeScript types; this declares the part this package uses.
// (Never v2: it is AGPL.)
declare module 'ua-parser-js' {
  interface UAParserResult {
    browser: { name?: string; version?: string }
    os: { name?: string; version?: string }
    device: { vendor?: string; model?: string; type?: string }
  }
  export class UAParser {
    constructor(ua?: string)
    getResult(): UAParserResult
  }
}
