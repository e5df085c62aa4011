"""fastsgd: fast, trustworthy gradient-method training of linear models."""
