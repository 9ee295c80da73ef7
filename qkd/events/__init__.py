"""Detector events: time tags and transmitter records in memory, the emulator, time-tag file formats."""

from qkd.events.record import ArrayTransmitterRecord, EventsError, PhiloxTransmitterRecord, TimeTags, TransmitterRecord

__all__ = ["ArrayTransmitterRecord", "EventsError", "PhiloxTransmitterRecord", "TimeTags", "TransmitterRecord"]
