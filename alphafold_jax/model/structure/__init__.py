"""The structure module: invariant point attention, backbone and side chains."""
