/**
 * The only platform APIs core may use: those every target runtime has (browsers, Web Workers,
 * Node >= 20). Declared here by hand because tsconfig.core.json loads neither the DOM nor the
 * Node type libraries, so nothing else slips into core.
 */
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
