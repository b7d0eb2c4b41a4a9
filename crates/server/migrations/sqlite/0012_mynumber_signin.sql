-- Issue 12. The My Number sign-in finds a card's binding by its certificate's fingerprint at
-- every sign-in, active or ended (an ended one is answered with its own refusal); the unique
-- index covers only active bindings.
CREATE INDEX mynumber_bindings_fingerprint ON mynumber_bindings (fingerprint, id);
