//! gitleaks rule files (placeholder).
