export { dbtAssets, defaultPartitionVars, type DbtAssetsOptions, type DbtNode } from './dbt-assets';
