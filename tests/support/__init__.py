"""Test helpers shared by test folders: real servers on loopback, a scripted API, a fault proxy."""
