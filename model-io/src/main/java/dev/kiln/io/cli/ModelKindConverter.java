package dev.kiln.io.cli;

import dev.kiln.io.model.ModelKind;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code --model NAME} for every command that takes it; an unknown name is a usage error listing the known. */
public final class ModelKindConverter implements ITypeConverter<ModelKind> {
    @Override
    public ModelKind convert(String name) {
        try {
            return ModelKind.fromCliName(name);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
