-- commitledger org views (schema commitledger.changes/1), over the tables changes, usage and repos that
-- `commitledger rollup` writes to DuckDB and to Parquet. Plain SQL that DuckDB, Snowflake, Trino/Presto,
-- Spark SQL and PostgreSQL run unchanged (BigQuery: see the README, DATE_TRUNC takes its arguments the
-- other way round there). Statements are separated by ";" at the end of a line.
--
-- Definitions (the same as `commitledger history`):
--   cost per merged change = AI cost of every AI-assisted change (reverted ones included) plus the AI cost of
--     abandoned PRs, divided by the AI-assisted changes merged and not reverted. Human and bot changes are on
--     neither side.
--   AI share = AI-assisted merged changes / merged changes.
--   revert rate = reverted merged changes / merged changes, apart for author_kind ai, human and bot.
--   Abandoned PRs are rows of kind 'abandoned': they add cost, never a merged change.

CREATE OR REPLACE VIEW change_facts AS
SELECT
  c.repo,
  c.commit,
  c.kind,
  c.merged_at,
  DATE_TRUNC('month', c.merged_at) AS month,
  c.author_kind,
  CASE WHEN c.kind = 'abandoned' THEN 0 ELSE 1 END AS merged,
  CASE WHEN c.kind <> 'abandoned' AND c.author_kind = 'ai' THEN 1 ELSE 0 END AS ai_merged,
  CASE WHEN c.kind <> 'abandoned' AND c.author_kind = 'human' THEN 1 ELSE 0 END AS human_merged,
  CASE WHEN c.kind <> 'abandoned' AND c.author_kind = 'bot' THEN 1 ELSE 0 END AS bot_merged,
  CASE WHEN c.kind <> 'abandoned' AND c.author_kind = 'ai' AND c.reverted_by IS NOT NULL THEN 1 ELSE 0 END AS ai_reverted,
  CASE WHEN c.kind <> 'abandoned' AND c.author_kind = 'human' AND c.reverted_by IS NOT NULL THEN 1 ELSE 0 END AS human_reverted,
  CASE WHEN c.kind <> 'abandoned' AND c.author_kind = 'bot' AND c.reverted_by IS NOT NULL THEN 1 ELSE 0 END AS bot_reverted,
  CASE WHEN c.kind <> 'abandoned' AND c.author_kind = 'ai' AND c.reverted_by IS NULL THEN 1 ELSE 0 END AS ai_kept,
  CASE WHEN c.author_kind = 'ai' OR c.kind = 'abandoned' THEN COALESCE(c.cost_usd, 0) ELSE 0 END AS ai_cost_usd,
  CASE WHEN (c.author_kind = 'ai' OR c.kind = 'abandoned') AND c.cost_usd IS NULL THEN 1 ELSE 0 END AS cost_unknown,
  c.agent,
  c.model
FROM changes c;

CREATE OR REPLACE VIEW org_by_repo AS
SELECT
  repo,
  SUM(merged) AS merged,
  SUM(ai_merged) AS ai_merged,
  SUM(ai_merged) * 1.0 / NULLIF(SUM(merged), 0) AS ai_share,
  SUM(ai_cost_usd) AS ai_cost_usd,
  SUM(ai_cost_usd) / NULLIF(SUM(ai_kept), 0) AS cost_per_merged_change,
  SUM(ai_reverted) * 1.0 / NULLIF(SUM(ai_merged), 0) AS revert_rate_ai,
  SUM(human_reverted) * 1.0 / NULLIF(SUM(human_merged), 0) AS revert_rate_human,
  SUM(bot_reverted) * 1.0 / NULLIF(SUM(bot_merged), 0) AS revert_rate_bot,
  SUM(cost_unknown) AS ai_changes_without_cost
FROM change_facts
GROUP BY repo;

CREATE OR REPLACE VIEW org_by_month AS
SELECT
  month,
  SUM(merged) AS merged,
  SUM(ai_merged) AS ai_merged,
  SUM(ai_merged) * 1.0 / NULLIF(SUM(merged), 0) AS ai_share,
  SUM(ai_cost_usd) AS ai_cost_usd,
  SUM(ai_cost_usd) / NULLIF(SUM(ai_kept), 0) AS cost_per_merged_change,
  SUM(ai_reverted) * 1.0 / NULLIF(SUM(ai_merged), 0) AS revert_rate_ai,
  SUM(human_reverted) * 1.0 / NULLIF(SUM(human_merged), 0) AS revert_rate_human,
  SUM(bot_reverted) * 1.0 / NULLIF(SUM(bot_merged), 0) AS revert_rate_bot
FROM change_facts
GROUP BY month;

CREATE OR REPLACE VIEW org_by_repo_month AS
SELECT
  repo,
  month,
  SUM(merged) AS merged,
  SUM(ai_merged) AS ai_merged,
  SUM(ai_merged) * 1.0 / NULLIF(SUM(merged), 0) AS ai_share,
  SUM(ai_cost_usd) AS ai_cost_usd,
  SUM(ai_cost_usd) / NULLIF(SUM(ai_kept), 0) AS cost_per_merged_change,
  SUM(ai_reverted) * 1.0 / NULLIF(SUM(ai_merged), 0) AS revert_rate_ai,
  SUM(human_reverted) * 1.0 / NULLIF(SUM(human_merged), 0) AS revert_rate_human,
  SUM(bot_reverted) * 1.0 / NULLIF(SUM(bot_merged), 0) AS revert_rate_bot
FROM change_facts
GROUP BY repo, month;

-- By the agent and model a change names (changes.agent, changes.model): 'several' when it names more than
-- one (its cost is not split between them), 'unknown' when it names none.
CREATE OR REPLACE VIEW org_by_agent_model AS
SELECT
  COALESCE(agent, 'unknown') AS agent,
  COALESCE(model, 'unknown') AS model,
  SUM(ai_merged) AS ai_merged,
  SUM(ai_cost_usd) AS ai_cost_usd,
  SUM(ai_cost_usd) / NULLIF(SUM(ai_kept), 0) AS cost_per_merged_change,
  SUM(ai_reverted) * 1.0 / NULLIF(SUM(ai_merged), 0) AS revert_rate_ai
FROM change_facts
WHERE author_kind = 'ai' OR kind = 'abandoned'
GROUP BY COALESCE(agent, 'unknown'), COALESCE(model, 'unknown');

CREATE OR REPLACE VIEW org_total AS
SELECT
  COUNT(DISTINCT repo) AS repos,
  SUM(merged) AS merged,
  SUM(ai_merged) AS ai_merged,
  SUM(ai_merged) * 1.0 / NULLIF(SUM(merged), 0) AS ai_share,
  SUM(ai_cost_usd) AS ai_cost_usd,
  SUM(ai_cost_usd) / NULLIF(SUM(ai_kept), 0) AS cost_per_merged_change,
  SUM(ai_reverted) * 1.0 / NULLIF(SUM(ai_merged), 0) AS revert_rate_ai,
  SUM(human_reverted) * 1.0 / NULLIF(SUM(human_merged), 0) AS revert_rate_human,
  SUM(bot_reverted) * 1.0 / NULLIF(SUM(bot_merged), 0) AS revert_rate_bot
FROM change_facts;
