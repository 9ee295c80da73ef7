"""Key management: key store, ETSI GS QKD 014 KME service, trusted-node relay, client."""
