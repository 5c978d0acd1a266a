/**
 * What the credential functions return: a `Resolution` (holds the secret) and an
 * `AuthStatus` (never does).
 *
 * A Resolution keeps its secret in a private field behind a getter, so `util.inspect`
 * (and so `console.log`), `JSON.stringify`, `String()`, spreading and structuredClone
 * never show it: they show `'***'` or leave it out. Read it as `resolution.secret`.
 */
import type { AuthMethod, Source, StatusValue } from "./protocol";
declare const inspectSymbol: unique symbol;
/** The result object of `method`, or ProtocolError. */
export declare function resultObject(value: unknown, method: string): Record<string, unknown>;
/** A resolved credential: `secret` and where it came from (`source`). */
export declare class Resolution {
    #private;
    readonly provider: string;
    readonly source: Source | null;
    readonly authMethod: AuthMethod;
    readonly expiresAt: number | null;
    /**
     * `source` is "explicit", "env", "store" or "oauth" (null for a provider that needs
     * no credential, whose `secret` is null too); `authMethod` is "api_key", "oauth" or
     * "none"; `expiresAt` is a Unix time (seconds) for expiring tokens, else null.
     */
    constructor(provider: string, secret: string | null, source: Source | null, authMethod: AuthMethod, expiresAt?: number | null);
    /** The credential itself (null when the provider needs none). */
    get secret(): string | null;
    /** Decode an `auth.resolve` result; ProtocolError when it does not fit. */
    static fromWire(value: unknown, method?: string): Resolution;
    /** Plain data without the secret (`'***'` in its place when there is one). */
    toJSON(): Record<string, unknown>;
    toString(): string;
    [inspectSymbol](): string;
}
/** Whether a provider is usable, from which source, with which methods (no secret). */
export declare class AuthStatus {
    readonly provider: string;
    readonly status: StatusValue;
    readonly source: Source | null;
    readonly authMethods: readonly string[];
    readonly authMethod: string | null;
    readonly expiresAt: number | null;
    readonly displayName: string | null;
    readonly error: string | null;
    /**
     * `status` is "authenticated", "not_authenticated" or "not_required" ("config_invalid"
     * for a wrong config.toml entry, with `error` saying why); `source` is the source that
     * would win a resolve now, or null; `authMethods` lists "api_key" and "oauth".
     */
    constructor(provider: string, status: StatusValue, source: Source | null, authMethods: readonly string[], authMethod?: string | null, expiresAt?: number | null, displayName?: string | null, error?: string | null);
    /** True when a resolve would succeed (or no credential is needed). */
    get authenticated(): boolean;
    /** Decode one entry of an `auth.status` result; ProtocolError when it does not fit. */
    static fromWire(value: unknown, method?: string): AuthStatus;
}
export {};
