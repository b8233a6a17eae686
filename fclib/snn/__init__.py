"""Spiking networks: SEW-ResNet models, training and spike recording (torch only here)."""
