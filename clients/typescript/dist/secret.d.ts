/**
 * What an API key may be: the daemon's rule (docs/protocol.md, auth.set_credential),
 * applied here too so that a bad key never reaches the socket.
 *
 * The ends are trimmed of ASCII space, tab, CR and LF only (what a paste or `echo`
 * adds). A key that is empty, longer than 16 KiB in UTF-8, not valid Unicode (a lone
 * surrogate, which JSON.stringify would send as `\ud800` and the daemon rejects) or
 * holding a control character anywhere is refused with InvalidArgument, whose message
 * never shows the key.
 */
/** `value` as it is to be stored (trimmed); throws InvalidArgument when it cannot be. */
export declare function checkSecret(value: unknown): string;
/** Whether every string inside `value` is valid Unicode (what the daemon can parse). */
export declare function wellFormed(value: unknown): boolean;
