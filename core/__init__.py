"""Shared plumbing every app uses: outbound HTTP, domain errors, logging, middleware, health check."""
