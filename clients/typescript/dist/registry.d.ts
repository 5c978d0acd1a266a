/**
 * The provider registry and how a name matches (docs/protocol.md section 7).
 *
 * The built-ins are embedded (`providers.ts`, a copy of clients/conformance/
 * providers.json). This client reads no TOML: when config.toml exists, the `Client`
 * asks the daemon with `provider.list`, which applies the file's trust rules, and
 * uses its entries instead.
 */
import { type ProviderEntry } from "./providers";
export type { ProviderEntry } from "./providers";
/**
 * How every nxuskit client matches a provider name: surrounding ASCII spaces, tabs, CRs
 * and LFs are ignored, and ASCII letters match without regard to case. Nothing else
 * changes (no Unicode case folding, no other whitespace).
 */
export declare function normalizeName(name: string): string;
/** `'name'` when it looks like a provider name; never echo what may be a key. */
export declare function shownName(name: unknown): string;
/** Whether a provider needs a credential at all (local ones do not). */
export declare function requiresAuth(entry: ProviderEntry): boolean;
/** Providers by name and alias; `broken` are config.toml entries that are wrong. */
export declare class Registry {
    readonly source: string;
    readonly configError: string | null;
    private readonly byName;
    private readonly broken;
    /**
     * `entries` as `provider.list` gives them (an entry with a non-null `error` is a wrong
     * config.toml table); `configError` says why config.toml as a whole is not used;
     * `source` is the config.toml path, named in messages.
     */
    constructor(entries: readonly ProviderEntry[], source: string, configError?: string | null);
    /** The usable providers, in registry order. */
    get providers(): ProviderEntry[];
    /** The provider called `name` (or aliased so), or undefined. */
    find(name: unknown): ProviderEntry | undefined;
    /** The provider called `name`; throws ConfigError or UnknownProvider. */
    get(name: unknown): ProviderEntry;
}
/** The registry `provider.list` describes (`source`: the config.toml path). */
export declare function registryFromWire(result: unknown, source: string): Registry;
