// GearboxStore/StoreSchema: the store's tables, as versioned migrations in the SQL both SQLite
// and PostgreSQL accept. A migration only ever adds; a database at an older version is brought
// up to `current` when opened, in one transaction per step, so a failed step leaves it as it was.

/// One step of the schema: its DDL, then (optionally) Swift code that fills the new tables from
/// what older versions already kept.
struct StoreMigration {
    let version: Int
    let statements: [String]
    let backfill: ((ResultsStore) throws -> Void)?
}

enum StoreSchema {
    static let current = 2

    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS gearbox_migrations (
            version BIGINT PRIMARY KEY,
            applied_at TEXT NOT NULL)
        """

    static let migrations: [StoreMigration] = [
        // Version 1: what a run is — its table, verbatim — and what it ran on.
        StoreMigration(version: 1, statements: [
            """
            CREATE TABLE devices (
                id TEXT PRIMARY KEY,
                hostname TEXT,
                cpu_model TEXT,
                kind TEXT NOT NULL,
                board TEXT,
                kernel TEXT,
                firmware TEXT,
                probe_hash TEXT NOT NULL,
                probe_json TEXT NOT NULL)
            """,
            """
            CREATE TABLE portfolios (
                name TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                PRIMARY KEY (name, content_hash))
            """,
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                device TEXT NOT NULL,
                portfolio TEXT NOT NULL,
                controller TEXT NOT NULL,
                gearbox_version TEXT NOT NULL,
                git_commit TEXT NOT NULL,
                hostname TEXT NOT NULL,
                date TEXT NOT NULL,
                lut_json TEXT NOT NULL)
            """,
            """
            CREATE TABLE failures (
                id TEXT PRIMARY KEY,
                board TEXT NOT NULL,
                step TEXT NOT NULL,
                reason TEXT NOT NULL,
                date TEXT NOT NULL)
            """,
        ], backfill: nil),
        // Version 2: a run's figures as rows (cells, switch matrix, memory) so that they can be
        // queried and exported, and validation summaries. Runs stored by version 1 get theirs
        // from the table each run kept.
        StoreMigration(version: 2, statements: [
            """
            CREATE TABLE cells (
                run_id TEXT NOT NULL,
                variant TEXT NOT NULL,
                frequency_khz BIGINT NOT NULL,
                source TEXT NOT NULL,
                p50_ns DOUBLE PRECISION NOT NULL,
                p90_ns DOUBLE PRECISION NOT NULL,
                p99_ns DOUBLE PRECISION NOT NULL,
                mean_ns DOUBLE PRECISION NOT NULL,
                samples BIGINT NOT NULL,
                energy_per_inference_j DOUBLE PRECISION,
                power_w DOUBLE PRECISION,
                PRIMARY KEY (run_id, variant, frequency_khz))
            """,
            """
            CREATE TABLE switch_costs (
                run_id TEXT NOT NULL,
                from_variant TEXT NOT NULL,
                to_variant TEXT NOT NULL,
                cold_ns DOUBLE PRECISION,
                warm_ns DOUBLE PRECISION,
                PRIMARY KEY (run_id, from_variant, to_variant))
            """,
            """
            CREATE TABLE variant_memory (
                run_id TEXT NOT NULL,
                variant TEXT NOT NULL,
                engine_bytes BIGINT NOT NULL,
                rss_delta_bytes BIGINT,
                peak_rss_delta_bytes BIGINT,
                PRIMARY KEY (run_id, variant))
            """,
            """
            CREATE TABLE validations (
                id TEXT PRIMARY KEY,
                device TEXT NOT NULL,
                lut TEXT NOT NULL,
                trace TEXT NOT NULL,
                objective TEXT NOT NULL,
                controller TEXT NOT NULL,
                gearbox_version TEXT NOT NULL,
                git_commit TEXT NOT NULL,
                date TEXT NOT NULL,
                summary_json TEXT NOT NULL)
            """,
            """
            CREATE TABLE validation_policies (
                validation_id TEXT NOT NULL,
                policy TEXT NOT NULL,
                violation_rate DOUBLE PRECISION NOT NULL,
                p99_ns DOUBLE PRECISION NOT NULL,
                switches BIGINT NOT NULL,
                PRIMARY KEY (validation_id, policy))
            """,
        ], backfill: { store in try store.backfillRunDetails() }),
    ]
}
