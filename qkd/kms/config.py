"""Configuration of a KME node (``qshift kme serve node.toml``): pydantic v2 models, unknown keys refused.

Every node of a deployment carries the same ``[topology]`` (nodes, QKD links, which SAEs attach where) and
its own ``[node]``, ``[tls]``, ``[limits]`` and ``[[feeds]]``. Sizes are in bits, rates in bits/s, times in
seconds. Identities: a KME's certificate carries its node ID, an SAE's its SAE ID, in the subject CN
(see :mod:`qkd.kms.pki`); node IDs and SAE IDs must therefore be distinct.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NodeSection(_Model):
    """This node: its ID, where its API listens, where its store and master key live."""

    id: str = Field(min_length=1, max_length=128)
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8443, ge=0, le=65535)
    db_path: str
    master_key_path: str
    durable_deliveries: bool = Field(
        default=False, description="also fsync the 'delivered' marks. Consuming key material and reserving "
                                   "keys are always fsync'd (no key reuse or double delivery after a power "
                                   "cut); without this a power cut may turn a just-delivered key into a "
                                   "quarantined one (label only)")
    admin_ids: list[str] = Field(default_factory=list,
                                 description="certificate CNs allowed on /admin/v1 (deposits, alarms, status); "
                                             "the node's own certificate always is")


class TlsSection(_Model):
    """PEM files: the deployment CA, this node's certificate and private key."""

    ca: str
    cert: str
    key: str


class LimitsSection(_Model):
    """ETSI GS QKD 014 limits announced in the Status object, and pool capacities (bits)."""

    key_size_bits: int = Field(default=256, ge=8)
    min_key_size_bits: int = Field(default=64, ge=8)
    max_key_size_bits: int = Field(default=8192, ge=8)
    max_key_per_request: int = Field(default=128, ge=1)
    pool_capacity_bits: int = Field(default=1 << 30, ge=8)
    relay_timeout_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _sizes(self) -> LimitsSection:
        for name in ("key_size_bits", "min_key_size_bits", "max_key_size_bits"):
            if getattr(self, name) % 8:
                raise ValueError(f"{name} must be a multiple of 8 bits")
        if not self.min_key_size_bits <= self.key_size_bits <= self.max_key_size_bits:
            raise ValueError("need min_key_size_bits <= key_size_bits <= max_key_size_bits")
        return self


class TopoNode(_Model):
    id: str
    url: str = Field(description="base URL of the node's KME API, e.g. https://127.0.0.1:8443")


class TopoLink(_Model):
    id: str
    a: str
    b: str


class TopoSae(_Model):
    id: str
    node: str


class Topology(_Model):
    nodes: list[TopoNode]
    links: list[TopoLink] = Field(default_factory=list)
    saes: list[TopoSae] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Topology:
        node_ids = [n.id for n in self.nodes]
        if len(set(node_ids)) != len(node_ids):
            raise ValueError("duplicate node id")
        sae_ids = [s.id for s in self.saes]
        if len(set(sae_ids)) != len(sae_ids):
            raise ValueError("duplicate SAE id")
        if set(sae_ids) & set(node_ids):
            raise ValueError("SAE ids and node ids must be distinct (both are certificate CNs)")
        for link in self.links:
            if link.a not in node_ids or link.b not in node_ids or link.a == link.b:
                raise ValueError(f"link {link.id!r}: ends must be two distinct known nodes")
        for sae in self.saes:
            if sae.node not in node_ids:
                raise ValueError(f"SAE {sae.id!r}: unknown node {sae.node!r}")
        return self


class EntangledSection(_Model):
    """The emulated hardware of a ``protocol = "bbm92"`` link (``[feeds.entangled]``): a CW SPDC pair source
    in the middle of the feed's ``length_km`` of fibre (each arm half of it at ``attenuation_db_per_km``),
    SNSPD stations, and Bob's free-running clock (found from the tags every block)."""

    pair_rate_hz: float = Field(default=1.0e6, gt=0, le=1e9, description="pairs emitted per second")
    visibility: float = Field(default=0.98, gt=0.5, le=1, description="two-photon interference visibility")
    coincidence_window_ps: float = Field(default=1000.0, gt=0, le=1e6, description="coincidence window (ps)")
    block_seconds: float = Field(default=0.5, gt=0, le=10, description="time tags per block (s of link time)")
    attenuation_db_per_km: float = Field(default=0.2, ge=0, le=10)
    z_sample_fraction: float = Field(default=0.1, gt=0, lt=1, description="Z key bits disclosed for the QBER")
    witness_eps: float = Field(default=1e-9, gt=0, lt=1, description="the entanglement witness fails to alarm "
                                                                      "with at most this probability")
    bob_clock_offset_ps: float = Field(default=3.7e7, description="Bob's clock against Alice's (ps)")
    bob_clock_drift_ppm: float = Field(default=-2.5, gt=-20, lt=20, description="Bob's clock drift (ppm)")


class FeedSection(_Model):
    """Where a pool's key comes from (besides a pipeline pushing through :class:`~qkd.kms.feeds.LinkKeySink`).

    ``emulated``: this node runs its end of an emulated QKD link - the physics emulator (``qkd.emulator``,
    ``preset`` at ``length_km``, block ``i`` seeded ``emulator_seed + i`` at both ends) and the
    post-processing pipeline (``qkd.postprocess.link``) against the peer node over a WebSocket inside mutual
    TLS; the node with the smaller ID is Alice. ``synthetic-shared-seed``: SHAKE-256(seed, link, block
    index) - both ends compute the same blocks. SYNTHETIC, NOT SECRET: for tests and demos only.
    ``synthetic-os-rng`` (``local`` pool only): ``os.urandom`` blocks; labelled synthetic because no QKD
    link produced them. ``timetag-files``: like ``emulated``, but block ``i`` is the receiver's time-tag
    file ``timetag_files[i]`` (any format :func:`qkd.events.formats.read_timetags` reads) sifted against the
    transmitter record ``transmitter_files[i]`` (``.npz`` per slot or ``.json`` Philox descriptor, as written
    by ``qshift qkd emulate``), with ``window_ps`` and seed ``sift_seed + i``; both nodes of the link are
    given the same file pairs. With ``protocol = "bbm92"``, block ``i`` is instead the pair of both stations'
    time-tag files ``timetag_files[i]`` (Alice) and ``bob_timetag_files[i]`` (Bob), each on its own clock:
    clock found from the tags, coincidences within ``[feeds.entangled] coincidence_window_ps``, sifting with
    its ``z_sample_fraction`` (seed ``sift_seed + i``) and the witness at its ``witness_eps``
    (:class:`~qkd.runtime.sources.EntangledFileSource`; the section's emulator settings are not used).

    ``protocol`` (the link kind, ``emulated`` feeds): ``bb84-decoy`` (the decoy-state BB84 emulator above) or
    ``bbm92`` (entanglement based: an SPDC source in the middle of the fibre, both stations' time tags,
    coincidences, the entanglement witness as the alarm; hardware in ``[feeds.entangled]``). Both KMEs of
    the link must say the same: the link hello refuses a mismatch, naming both.
    """

    pool: str = Field(description="a link id, or 'local' for pairs attached to this node")
    kind: Literal["synthetic-shared-seed", "synthetic-os-rng", "emulated", "timetag-files"]
    seed: str = ""
    prefill_bits: int = Field(default=0, ge=0)
    rate_bps: float = Field(default=0.0, ge=0)
    block_bits: int = Field(default=65536, ge=8)
    # emulated links
    preset: str = "snspd-fiber"
    length_km: float = Field(default=10.0, ge=0)
    pulses_per_block: int = Field(default=4_000_000, ge=1000)
    emulator_seed: int = Field(default=1, ge=0)
    key_length: Literal["finite", "asymptotic"] = "asymptotic"
    #: Error correction: Cascade (interactive) or rate-adaptive LDPC (a few round trips, for links whose
    #: classical channel has a long round trip). Both KMEs of the link must say the same.
    reconciler: Literal["cascade", "ldpc"] = "cascade"
    #: LDPC at this end when it is Bob (the end that plans the frames and decodes; Alice follows his plan, so the
    #: two ends need not agree): the decoder — "phi-sum" (closest to capacity, f ≈ 1.07–1.10 on long blocks),
    #: "min-sum-8" (the int8 min-sum: ~5× the φ-sum's speed, f ≈ 1.15–1.3), "min-sum" or "sum-product" — and the
    #: first attempt's efficiency (unset: the decoder's calibration; higher: fewer retries, more leakage). For a
    #: link whose post-processing must keep up with a fast source, "min-sum-8" with f0 1.4: one round trip a block
    #: at QBER 1–3 % (bench/qkd_postprocess.py --only pipelined_ldpc: 1.4× a 1 GHz link's sifted rate on 2 cores)
    ldpc_decoder: Literal["phi-sum", "min-sum-8", "min-sum", "sum-product"] = Field(
        default="phi-sum", description="LDPC decoder of this end (as Bob): phi-sum, min-sum-8, min-sum, sum-product")
    ldpc_f_start: float | None = Field(default=None, ge=1.0, le=2.0,
                                       description="LDPC first-attempt efficiency f0 (unset: the decoder's own)")
    protocol: Literal["bb84-decoy", "bbm92"] = Field(
        default="bb84-decoy", description="the link kind: decoy-state BB84 or entanglement-based BBM92")
    entangled: EntangledSection = Field(default_factory=EntangledSection,
                                        description="bbm92: the emulated pair source and stations")
    block_interval_s: float = Field(default=0.0, ge=0)
    max_blocks: int = Field(default=0, ge=0, description="0: run until the node stops")
    # time-tag files
    timetag_files: list[str] = Field(default_factory=list, description="receiver time tags, one file per block "
                                                                       "(bbm92: Alice's station)")
    bob_timetag_files: list[str] = Field(default_factory=list,
                                         description="bbm92: Bob's station time tags, one file per block")
    transmitter_files: list[str] = Field(default_factory=list,
                                         description="transmitter record (.npz or .json) per block")
    window_ps: float = Field(default=300.0, gt=0, description="coincidence window of the sifting (ps)")
    sift_seed: int = Field(default=0, ge=0, description="block i sifts with seed sift_seed + i (both ends)")
    # emulated source shape (defaults: the preset's own)
    p_z: float | None = Field(default=None, gt=0, lt=1, description="Z-basis probability at both ends")
    intensity_probabilities: tuple[float, float, float] | None = Field(
        default=None, description="probabilities of the signal, weak-decoy and vacuum intensities")
    turbulence: bool = Field(default=False, description="free-space presets: moderate scintillation "
                                                        "(log-amplitude variance 0.3)")
    qber_abort: float = Field(default=0.11, gt=0, lt=0.5, description="abort a block above this QBER estimate")
    # the link runtime (qkd.runtime): authentication, liveness, deadlines
    auth: Literal["tls", "transcript"] = Field(
        default="tls", description="authentication of the link's classical channel: 'tls' = the mutually "
                                   "authenticated TLS session between the two KMEs (computational, no key "
                                   "spent); 'transcript' = Wegman-Carter over each block's transcript "
                                   "(information-theoretic, 256 bits of key per block, pads from auth_psk_file "
                                   "then refilled from the link's own key)")
    auth_psk_file: str = Field(default="", description="transcript auth: the pre-shared pads, the same file at "
                                                       "both nodes (32 bytes of hash keys + 32 per pad pair)")
    channel_url: str = Field(default="", description="Alice: reach the peer's link channel at this base URL "
                                                     "instead of its topology URL (a dedicated path)")
    heartbeat_s: float = Field(default=1.0, gt=0, description="heartbeat period on the classical channel")
    silence_timeout_s: float = Field(default=5.0, gt=0, description="a peer silent this long has failed")
    step_timeout_s: float = Field(default=30.0, gt=0, description="deadline of one protocol step")
    block_timeout_s: float = Field(default=120.0, gt=0, description="deadline of one block")
    connect_timeout_s: float = Field(default=10.0, gt=0, description="deadline of connecting to the peer")
    backoff_max_s: float = Field(default=10.0, gt=0, description="longest wait before restarting a failed link")

    @model_validator(mode="after")
    def _runtime(self) -> FeedSection:
        if self.heartbeat_s >= self.silence_timeout_s:
            raise ValueError(f"feed {self.pool!r}: heartbeat_s ({self.heartbeat_s}) must be below "
                             f"silence_timeout_s ({self.silence_timeout_s})")
        if self.auth == "transcript" and not self.auth_psk_file:
            raise ValueError(f"feed {self.pool!r}: auth = 'transcript' needs auth_psk_file (the pre-shared pads)")
        if self.intensity_probabilities is not None and abs(sum(self.intensity_probabilities) - 1) > 1e-9:
            raise ValueError(f"feed {self.pool!r}: intensity_probabilities must sum to 1")
        if self.protocol == "bbm92" and self.kind not in ("emulated", "timetag-files"):
            raise ValueError(f"feed {self.pool!r}: protocol 'bbm92' runs on an emulated or a timetag-files feed, "
                             f"not {self.kind!r}")
        if self.protocol == "bbm92" and self.transmitter_files:
            raise ValueError(f"feed {self.pool!r}: a bbm92 link has no transmitter record; give both stations' "
                             "time tags (timetag_files: Alice's, bob_timetag_files: Bob's)")
        if self.protocol != "bbm92" and self.bob_timetag_files:
            raise ValueError(f"feed {self.pool!r}: bob_timetag_files are a bbm92 link's second station; this "
                             f"feed's protocol is {self.protocol!r}")
        # A [feeds.entangled] with settings of its own on a BB84 feed is a mistake worth naming; the default
        # section (as a dumped config writes it back) is not.
        if self.protocol != "bbm92" and self.entangled != EntangledSection():
            raise ValueError(f"feed {self.pool!r}: [feeds.entangled] describes a bbm92 link; this feed's "
                             f"protocol is {self.protocol!r}")
        return self

    @property
    def runs_link_end(self) -> bool:
        """True when this node runs its end of a QKD link (post-processing against the peer node)."""
        return self.kind in ("emulated", "timetag-files")


class KmeConfig(_Model):
    """A KME node."""

    node: NodeSection
    tls: TlsSection
    limits: LimitsSection = Field(default_factory=LimitsSection)
    topology: Topology
    feeds: list[FeedSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _node_in_topology(self) -> KmeConfig:
        if self.node.id not in {n.id for n in self.topology.nodes}:
            raise ValueError(f"node.id {self.node.id!r} is not a node of the topology")
        links = {link.id for link in self.topology.links if self.node.id in (link.a, link.b)}
        for feed in self.feeds:
            if feed.pool != "local" and feed.pool not in links:
                raise ValueError(f"feed pool {feed.pool!r}: not 'local' nor a link of node {self.node.id!r}")
            if feed.kind == "synthetic-shared-seed" and not feed.seed:
                raise ValueError(f"feed {feed.pool!r}: synthetic-shared-seed needs a seed")
            if feed.runs_link_end and feed.pool == "local":
                raise ValueError(f"feed 'local': a QKD link end ({feed.kind}) feeds a link pool, not 'local'")
            if feed.kind == "timetag-files" and feed.protocol == "bbm92":
                if not feed.timetag_files or len(feed.timetag_files) != len(feed.bob_timetag_files):
                    raise ValueError(f"feed {feed.pool!r}: a bbm92 timetag-files feed needs one Bob station file "
                                     f"per Alice station file ({len(feed.timetag_files)} timetag_files, "
                                     f"{len(feed.bob_timetag_files)} bob_timetag_files)")
            elif feed.kind == "timetag-files" and (not feed.timetag_files
                                                   or len(feed.timetag_files) != len(feed.transmitter_files)):
                raise ValueError(f"feed {feed.pool!r}: timetag-files needs one transmitter file per time-tag "
                                 f"file ({len(feed.timetag_files)} time-tag, {len(feed.transmitter_files)} "
                                 "transmitter files)")
            if feed.kind == "synthetic-os-rng" and feed.pool != "local":
                raise ValueError(f"feed {feed.pool!r}: synthetic-os-rng feeds only the 'local' pool "
                                 "(both ends of a link need the same key)")
        return self
