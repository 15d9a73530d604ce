"""The commands beside cleaning photos, one module each, loaded only when named
(declare.cli.DefaultGroup.lazy): `models`, `plugins`, `presets`; `train` and `bench`
live with their packages."""
