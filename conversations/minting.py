"""Minting ephemeral Realtime keys: quota, conversation, upstream call, audit."""


def mint_session(*, user, conversation_id=None) -> dict:
    raise NotImplementedError
