// GearboxEngine: placeholder until its module lands.
