"""The local content-addressed image store under LAMINA_HOME."""
