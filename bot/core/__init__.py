"""What every part of the plugin shares: settings from the environment, the bank's facts and
the channel vocabulary."""
