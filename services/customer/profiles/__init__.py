"""Customer profiles: registering and changing them with their permanent record of
versions, reading and searching them, finding duplicates, and the opt-outs a change
implies."""
