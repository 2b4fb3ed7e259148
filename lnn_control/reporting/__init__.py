"""Reports and media: self-contained HTML, figures, drive and flight videos."""
