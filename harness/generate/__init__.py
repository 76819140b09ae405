"""Generation backends behind one interface (`harness.generate.base.Backend`)."""
