/** IO managers besides DuckDB tables: Parquet files, JSON files and in-memory values (see `../io-manager.ts`). */
export { MemoryIOManager, memoryIO } from './memory-io-manager';
export { JsonIOManager, jsonIO, type JsonIOOptions } from './json-io-manager';
export { ParquetIOManager, parquetIO, type ParquetIOOptions } from './parquet-io-manager';
export type { ParquetInput } from './parquet-input';
export { PARTITION_FILE_PREFIX, WAP_DIR } from './file-paths';
