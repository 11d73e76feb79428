-- 0001 initial schema for SQLite: the same tables and keys as MySQL, without
-- partitions (retention deletes rows instead of dropping partitions).

CREATE TABLE IF NOT EXISTS signals (
    signal_id INTEGER NOT NULL PRIMARY KEY,
    message TEXT NOT NULL,
    name TEXT NOT NULL,
    signal_key TEXT NOT NULL,
    unit TEXT NOT NULL,
    rate_hz REAL NOT NULL,
    minimum REAL NULL,
    maximum REAL NULL,
    stored INTEGER NOT NULL,
    fingerprint INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS trucks (
    truck_id INTEGER NOT NULL PRIMARY KEY,
    first_t_us INTEGER NOT NULL,
    last_t_us INTEGER NOT NULL,
    last_write_us INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS chunks (
    truck_id INTEGER NOT NULL,
    signal_id INTEGER NOT NULL,
    t_start_us INTEGER NOT NULL,
    agent_start INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    t_end_us INTEGER NOT NULL,
    n INTEGER NOT NULL,
    vmin REAL NULL,
    vmax REAL NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (truck_id, signal_id, t_start_us, agent_start, seq)
);

CREATE TABLE IF NOT EXISTS rollup_1m (
    truck_id INTEGER NOT NULL,
    signal_id INTEGER NOT NULL,
    t_minute_us INTEGER NOT NULL,
    n INTEGER NOT NULL,
    vmin REAL NOT NULL,
    vmax REAL NOT NULL,
    vsum REAL NOT NULL,
    vlast REAL NOT NULL,
    last_t_us INTEGER NOT NULL,
    PRIMARY KEY (truck_id, signal_id, t_minute_us)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ledger (
    truck_id INTEGER NOT NULL,
    agent_start INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    t_base_us INTEGER NOT NULL,
    n_points INTEGER NOT NULL,
    t_first_us INTEGER NOT NULL,
    t_last_us INTEGER NOT NULL,
    committed_us INTEGER NOT NULL,
    PRIMARY KEY (truck_id, agent_start, seq, t_base_us)
) WITHOUT ROWID;
