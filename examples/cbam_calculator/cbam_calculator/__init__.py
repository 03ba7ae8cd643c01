"""The cbam-calculator agent: embedded emissions of goods imported into the EU."""
