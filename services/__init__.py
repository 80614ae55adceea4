"""Business rules of Portail Famille: plain functions, no Flask imports."""
