/**
 * The skip scans behind `latestCheckEvaluations`, shared by both stores: every step is one probe of the partial
 * index `events_by_check` (the next asset with check results, the next check name of an asset), so the cost
 * follows the number of checks, not the number of evaluations in the log. Each `type = 'check_evaluation'`
 * term lets the planner use the partial index.
 */

/** `assets(asset_key)` over every asset with check results (`keysCte` replaces it when keys are given). */
export const ALL_CHECKED_ASSETS_CTE = `assets(asset_key) AS (
  SELECT min(asset_key) FROM events WHERE type = 'check_evaluation'
  UNION ALL
  SELECT (SELECT min(x.asset_key) FROM events x WHERE x.type = 'check_evaluation' AND x.asset_key > a.asset_key)
  FROM assets a WHERE a.asset_key IS NOT NULL)`;

/** `checks(asset_key, check_name)`: every check name of the assets of the `assets` CTE. */
export const CHECK_NAMES_CTE = `checks(asset_key, check_name) AS (
  SELECT a.asset_key, (SELECT min(x.check_name) FROM events x WHERE x.type = 'check_evaluation' AND x.asset_key = a.asset_key)
  FROM assets a WHERE a.asset_key IS NOT NULL
  UNION ALL
  SELECT c.asset_key, (SELECT min(x.check_name) FROM events x
                       WHERE x.type = 'check_evaluation' AND x.asset_key = c.asset_key AND x.check_name > c.check_name)
  FROM checks c WHERE c.check_name IS NOT NULL)`;

/** The id of the newest evaluation of the check `c` (a row of `checks`). */
export const NEWEST_CHECK_EVENT = `(SELECT max(x.id) FROM events x WHERE x.type = 'check_evaluation' AND x.asset_key = c.asset_key AND x.check_name = c.check_name)`;
