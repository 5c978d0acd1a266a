"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.checkSecret = checkSecret;
exports.wellFormed = wellFormed;
const errors_1 = require("./errors");
const protocol_1 = require("./protocol");
const EDGES = /^[ \t\r\n]+|[ \t\r\n]+$/g;
// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** `value` as it is to be stored (trimmed); throws InvalidArgument when it cannot be. */
function checkSecret(value) {
    if (typeof value !== "string") {
        throw new errors_1.InvalidArgument("the credential must be text: pass the API key itself");
    }
    const secret = value.replace(EDGES, "");
    if (!secret) {
        throw new errors_1.InvalidArgument("the credential is empty: pass the API key itself");
    }
    if (!secret.isWellFormed()) {
        throw new errors_1.InvalidArgument("the credential is not valid Unicode text (a lone surrogate): pass the API key itself");
    }
    const size = Buffer.byteLength(secret, "utf8");
    if (size > protocol_1.MAX_SECRET_BYTES) {
        throw new errors_1.InvalidArgument(`the credential is ${size} bytes, over the ${protocol_1.MAX_SECRET_BYTES}-byte limit: ` +
            "pass the API key alone");
    }
    const control = CONTROL.exec(secret);
    if (control !== null) {
        const point = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
        throw new errors_1.InvalidArgument(`the credential contains the control character U+${point} (a line break, tab or ` +
            "other invisible character): pass the API key alone");
    }
    return secret;
}
/** Whether every string inside `value` is valid Unicode (what the daemon can parse). */
function wellFormed(value) {
    if (typeof value === "string") {
        return value.isWellFormed();
    }
    if (Array.isArray(value)) {
        return value.every(wellFormed);
    }
    if (typeof value === "object" && value !== null) {
        return Object.entries(value).every(([key, item]) => key.isWellFormed() && wellFormed(item));
    }
    return true;
}
