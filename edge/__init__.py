"""Everything that runs on the truck: the DBC, the codec, the agent, its spool and the simulator."""
