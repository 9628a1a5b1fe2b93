// GearboxReport: placeholder until its module lands.
