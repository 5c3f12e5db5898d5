"""Files: model files, tables (CSV/Parquet), IDX images, ONNX export, atomic writes."""
