-- One token bucket per rate-limited notifier, shared by every instance: a
-- chat service limits per bot and chat, not per process. `credit` counts
-- 1/60000 of a token, so that a rate of r per minute adds exactly r credit
-- per millisecond (integer arithmetic, nothing lost to rounding).
CREATE TABLE rate_buckets (
    notifier   TEXT PRIMARY KEY,
    credit     BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
