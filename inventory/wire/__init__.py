"""Parsers of wire formats shared by the capture and live-endpoint sources: TLS, SSH, IKEv2."""
