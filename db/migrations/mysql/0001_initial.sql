-- 0001 initial schema for MySQL and MariaDB.
-- Every table that grows with the fleet is keyed by truck first, so the data of
-- one truck can live on one shard. chunks, rollup_1m and ledger are partitioned
-- by day on a microsecond time column; they start with one catch-all partition
-- (p_future) that the store splits into daily partitions ahead of time.

CREATE TABLE IF NOT EXISTS signals (
    signal_id SMALLINT UNSIGNED NOT NULL,
    message VARCHAR(64) NOT NULL,
    name VARCHAR(64) NOT NULL,
    signal_key VARCHAR(160) NOT NULL,
    unit VARCHAR(32) NOT NULL,
    rate_hz DOUBLE NOT NULL,
    minimum DOUBLE NULL,
    maximum DOUBLE NULL,
    stored TINYINT NOT NULL,
    fingerprint INT UNSIGNED NOT NULL,
    PRIMARY KEY (signal_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS trucks (
    truck_id INT UNSIGNED NOT NULL,
    first_t_us BIGINT NOT NULL,
    last_t_us BIGINT NOT NULL,
    last_write_us BIGINT NOT NULL,
    PRIMARY KEY (truck_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS chunks (
    truck_id INT UNSIGNED NOT NULL,
    signal_id SMALLINT UNSIGNED NOT NULL,
    t_start_us BIGINT NOT NULL,
    agent_start BIGINT NOT NULL,
    seq INT UNSIGNED NOT NULL,
    t_end_us BIGINT NOT NULL,
    n INT UNSIGNED NOT NULL,
    vmin DOUBLE NULL,
    vmax DOUBLE NULL,
    payload MEDIUMBLOB NOT NULL,
    PRIMARY KEY (truck_id, signal_id, t_start_us, agent_start, seq)
) ENGINE=InnoDB
PARTITION BY RANGE (t_start_us) (PARTITION p_future VALUES LESS THAN MAXVALUE);

CREATE TABLE IF NOT EXISTS rollup_1m (
    truck_id INT UNSIGNED NOT NULL,
    signal_id SMALLINT UNSIGNED NOT NULL,
    t_minute_us BIGINT NOT NULL,
    n INT UNSIGNED NOT NULL,
    vmin DOUBLE NOT NULL,
    vmax DOUBLE NOT NULL,
    vsum DOUBLE NOT NULL,
    vlast DOUBLE NOT NULL,
    last_t_us BIGINT NOT NULL,
    PRIMARY KEY (truck_id, signal_id, t_minute_us)
) ENGINE=InnoDB
PARTITION BY RANGE (t_minute_us) (PARTITION p_future VALUES LESS THAN MAXVALUE);

CREATE TABLE IF NOT EXISTS ledger (
    truck_id INT UNSIGNED NOT NULL,
    agent_start BIGINT NOT NULL,
    seq INT UNSIGNED NOT NULL,
    t_base_us BIGINT NOT NULL,
    n_points INT UNSIGNED NOT NULL,
    t_first_us BIGINT NOT NULL,
    t_last_us BIGINT NOT NULL,
    committed_us BIGINT NOT NULL,
    PRIMARY KEY (truck_id, agent_start, seq, t_base_us)
) ENGINE=InnoDB
PARTITION BY RANGE (t_base_us) (PARTITION p_future VALUES LESS THAN MAXVALUE);
