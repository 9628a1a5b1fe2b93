// GearboxTraining: placeholder until its module lands.
