"""Getting events safely from one service's transaction into another's."""
