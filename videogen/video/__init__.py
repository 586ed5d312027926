"""The shared video core: family specs and adapters, hardware and load policy, loader, worker."""
