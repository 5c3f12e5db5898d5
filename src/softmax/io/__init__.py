"""Files: model files, tables (CSV/Parquet), IDX images, atomic writes."""
