/** One provider, as in `provider.list` (docs/protocol.md section 6). */
export interface ProviderEntry {
    readonly name: string;
    readonly display_name: string;
    readonly aliases: readonly string[];
    readonly env: string | null;
    readonly host_env: string | null;
    readonly default_host: string | null;
    readonly auth_methods: readonly string[];
    readonly api_path: string;
    /** A `provider.list` entry from a wrong config.toml table: its message. */
    readonly error?: string | null;
}
/** The format of the registry file this copy was made from. */
export declare const FORMAT = 1;
/** The built-in providers, in registry order. */
export declare const BUILTIN: readonly ProviderEntry[];
