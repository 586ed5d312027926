"""The shared video core: registry, foundation, adapters, loader, worker."""
