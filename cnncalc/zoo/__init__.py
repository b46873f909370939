"""The bundled architecture zoo: one commented spec file per famous network."""
