// Package deploy holds graphgate's deployment files: the container image (Dockerfile),
// Kubernetes manifests (kubernetes/), example configurations and the local scale-out
// compose file. It has no code; its test parses the files and checks their invariants:
// non-root, read-only root filesystem, probes, resources, no secrets in plain config.
package deploy
