package dev.kiln.io.model;

import dev.kiln.nn.Layer;

/** A model with its weights in place, and the card that says how to use it. */
public record LoadedModel(Layer model, ModelCard card) {
}
