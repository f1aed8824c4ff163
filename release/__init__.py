"""`make release-check` and the pieces the distribution tests share with it: building the
wheel and sdist offline, SHA256SUMS, installing into fresh virtualenvs, serving a release
folder on 127.0.0.1 and running install.sh against it. Not part of the package."""
